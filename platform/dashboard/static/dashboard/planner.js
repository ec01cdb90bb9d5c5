// Dragging in the planner: calendar posts onto another day or a free slot, queue posts into a new order.
// Native HTML5 drag and drop; every change is a call to the REST API (the same calls an API client makes), then
// the page reloads to show the server's truth, with a message (and an Undo) carried over in sessionStorage.
(function () {
  "use strict";

  var TOAST_KEY = "clipcast-planner-toast";

  function csrfToken() {
    try {
      return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || "";
    } catch (error) {
      return "";
    }
  }

  function api(url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: {"Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": csrfToken()},
      body: JSON.stringify(body || {}),
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        if (!response.ok) { throw new Error(messageOf(data) || "The change failed (" + response.status + ")."); }
        return data;
      });
    });
  }

  function messageOf(data) {
    if (typeof data === "string") { return data; }
    if (Array.isArray(data)) { return data.map(messageOf).join(" "); }
    if (data && typeof data === "object") {
      return Object.keys(data).map(function (key) { return messageOf(data[key]); }).join(" ");
    }
    return "";
  }

  function toast(text, undo, isError) {
    var box = document.getElementById("planner-toast");
    if (!box) { return; }
    box.textContent = "";
    box.className = "planner-toast " + (isError ? "message-error" : "message-success");
    box.setAttribute("role", isError ? "alert" : "status");
    var span = document.createElement("span");
    span.id = "planner-toast-text";
    span.textContent = text;
    box.appendChild(span);
    if (undo) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "button-small button-secondary";
      button.id = "planner-undo";
      button.textContent = "Undo";
      button.addEventListener("click", function () {
        button.disabled = true;
        api(undo.url, undo.body).then(function () {
          reloadWith(undo.done || "Undone.");
        }, function (error) { toast(error.message, null, true); });
      });
      box.appendChild(document.createTextNode(" "));
      box.appendChild(button);
    }
    box.hidden = false;
  }

  function reloadWith(text, undo) {
    sessionStorage.setItem(TOAST_KEY, JSON.stringify({text: text, undo: undo || null}));
    window.location.reload();
  }

  function showCarriedToast() {
    var carried = sessionStorage.getItem(TOAST_KEY);
    if (!carried) { return; }
    sessionStorage.removeItem(TOAST_KEY);
    try {
      var data = JSON.parse(carried);
      toast(data.text, data.undo, false);
    } catch (error) { /* an old or foreign value: nothing to show */ }
  }

  function addDays(isoDate, days) {
    var parts = isoDate.split("-").map(Number);
    var day = new Date(Date.UTC(parts[0], parts[1] - 1, parts[2] + days));
    return day.toISOString().slice(0, 10);
  }

  function daysBetween(from, to) {
    return Math.round((Date.parse(to + "T00:00:00Z") - Date.parse(from + "T00:00:00Z")) / 86400000);
  }

  // In the zone the page shows its times in (the campaign's or the workspace's), not the browser's.
  function describe(post) {
    var zoned = document.querySelector("[data-tz]");
    var options = {weekday: "short", day: "numeric", month: "short", hour: "2-digit", minute: "2-digit",
                   hourCycle: "h23"};
    if (zoned) { options.timeZone = zoned.dataset.tz; }
    var when;
    try {
      when = new Date(post.scheduled_at).toLocaleString([], options);
    } catch (error) {  // a zone this browser does not know
      delete options.timeZone;
      when = new Date(post.scheduled_at).toLocaleString([], options);
    }
    return "Post " + post.id + " moved to " + when + (zoned ? " (" + zoned.dataset.tz + ")" : "") + ".";
  }

  // A post that can be picked up: carries its id, looks lifted while dragged, clears drop highlights in `scope`.
  function draggablePost(element, scope, onStart) {
    element.addEventListener("dragstart", function (event) {
      onStart();
      event.dataTransfer.effectAllowed = "move";
      event.dataTransfer.setData("text/plain", element.dataset.post);
      element.classList.add("dragging");
    });
    element.addEventListener("dragend", function () {
      element.classList.remove("dragging");
      scope.querySelectorAll(".drop-over").forEach(function (el) { el.classList.remove("drop-over"); });
    });
  }

  // Calendar: a scheduled post dropped on a day keeps its wall-clock time; dropped on a free slot, takes its time.
  function setUpCalendar() {
    var dragged = null;
    document.querySelectorAll(".cal-entry[draggable='true']").forEach(function (entry) {
      draggablePost(entry, document, function () { dragged = entry; });
    });
    document.querySelectorAll(".cal-drop").forEach(function (day) {
      day.addEventListener("dragover", function (event) {
        if (!dragged) { return; }
        event.preventDefault();
        event.dataTransfer.dropEffect = "move";
        day.classList.add("drop-over");
      });
      day.addEventListener("dragleave", function () { day.classList.remove("drop-over"); });
      day.addEventListener("drop", function (event) {
        if (!dragged) { return; }
        event.preventDefault();
        var entry = dragged;
        dragged = null;
        var slot = event.target.closest ? event.target.closest(".cal-slot[data-at]") : null;
        var body;
        if (slot) {
          body = {scheduled_at: slot.dataset.at};
        } else {
          var shift = daysBetween(entry.dataset.calDate, day.dataset.date);
          if (shift === 0) { return; }
          body = {date: addDays(entry.dataset.campaignDate, shift)};
        }
        api(entry.dataset.moveUrl, body).then(function (post) {
          reloadWith(describe(post), {
            url: entry.dataset.moveUrl, body: {scheduled_at: post.previous_scheduled_at},
            done: "Move undone: post " + post.id + " is back where it was.",
          });
        }, function (error) { toast(error.message, null, true); });
      });
    });
  }

  // Queue: a post dropped on another takes its place; the times stay where they are, the order changes.
  function setUpQueue() {
    var list = document.querySelector("[data-reorder-url]");
    if (!list) { return; }
    var dragged = null;
    var order = function () {
      return Array.prototype.map.call(list.querySelectorAll(".queue-post[data-post]"), function (item) {
        return Number(item.dataset.post);
      });
    };
    list.querySelectorAll(".queue-post[draggable='true']").forEach(function (item) {
      draggablePost(item, list, function () { dragged = item; });
      item.addEventListener("dragover", function (event) {
        if (!dragged || dragged === item) { return; }
        event.preventDefault();
        item.classList.add("drop-over");
      });
      item.addEventListener("dragleave", function () { item.classList.remove("drop-over"); });
      item.addEventListener("drop", function (event) {
        if (!dragged || dragged === item) { return; }
        event.preventDefault();
        var before = order();
        var moving = Number(dragged.dataset.post);
        var target = Number(item.dataset.post);
        dragged = null;
        var after = before.filter(function (id) { return id !== moving; });
        var at = after.indexOf(target) + (before.indexOf(moving) < before.indexOf(target) ? 1 : 0);
        after.splice(at, 0, moving);
        api(list.dataset.reorderUrl, {posts: after}).then(function () {
          reloadWith("Queue reordered: post " + moving + " moved, every slot kept its time.", {
            url: list.dataset.reorderUrl, body: {posts: before}, done: "Reorder undone.",
          });
        }, function (error) { toast(error.message, null, true); });
      });
    });
  }

  // Gallery: one box ticks every clip of the page for the bulk actions.
  function setUpBulk() {
    var all = document.getElementById("bulk-select-all");
    if (!all) { return; }
    all.hidden = false;
    all.querySelector("input").addEventListener("change", function (event) {
      document.querySelectorAll("input.bulk-pick").forEach(function (box) { box.checked = event.target.checked; });
    });
  }

  function start() {
    showCarriedToast();
    setUpCalendar();
    setUpQueue();
    setUpBulk();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
