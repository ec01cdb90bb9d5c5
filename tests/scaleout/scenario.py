"""The multi-host proof: web, gpu-a, gpu-b and publish as network namespaces sharing only PostgreSQL,
Redis, the bucket and X (the sandbox), all on a bridge private to the run.

24 clips are rendered through the web API by both GPU hosts; gpu-a is lost (every process SIGKILLed) while it
renders; the reaper hands its clip to gpu-b; every clip is approved and posted to the sandbox by the publish host.
`run()` returns the figures and the list of what failed (empty when the proof holds).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
import time
from collections import Counter
from dataclasses import dataclass, field
from html import unescape
from urllib.parse import urlsplit

import psycopg
import requests

from tests.scaleout.harness import Cluster, tail, wait_for_port

HOSTS = ["web", "gpu-a", "gpu-b", "publish"]
BUCKET = "clipcast-scaleout"
WEB_PORT = 8000
GRID = {"colour": ["red", "green", "blue", "yellow"], "shape": ["circle", "square", "triangle"],
        "motion": ["moving left", "moving right"], "background": ["black"]}  # 4 x 3 x 2 = 24 clips
# Short beat intervals and staleness window so the lost host's clip is taken over within seconds.
FAST = {"REAP_INTERVAL": "2", "RENDER_STALE_AFTER": "10", "RENDER_REQUEUE_AFTER": "300", "DISPATCH_INTERVAL": "2",
        "HEARTBEAT_INTERVAL": "5", "PUBLISH_STALE_AFTER": "30", "DATABASE_RETRY_DELAY": "2"}
CELERY = ["celery", "-A", "clipcast"]


@dataclass
class Outcome:
    figures: dict = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)

    def check(self, ok: bool, message: str) -> None:
        if not ok:
            self.failures.append(message)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def wait(what: str, predicate, timeout: float, every: float = 0.5, on_timeout=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    raise TimeoutError(f"{what} within {timeout:.0f}s" + (f": {on_timeout()}" if on_timeout else ""))


class Scenario:
    def __init__(self, cluster: Cluster, clips: int, say=print) -> None:
        self.cluster, self.say = cluster, say
        self.hosts = cluster.hosts
        self.web_url = f"http://{self.hosts['web'].address}:{WEB_PORT}"
        self.password = secrets.token_urlsafe(12)
        self.expected = clips
        self.outcome = Outcome()

    # -- setup ---------------------------------------------------------------------------------------------------
    def services(self) -> None:
        urls = self.cluster.start_services()
        self.db = urls["database"]
        key_id, secret = "scaleout", secrets.token_urlsafe(24)
        self.s3_env = {"MEDIA_STORAGE": "s3", "MEDIA_BUCKET": BUCKET, "MEDIA_S3_ENDPOINT_URL": urls["s3"],
                       "MEDIA_S3_REGION": "us-east-1", "MEDIA_S3_ACCESS_KEY_ID": key_id,
                       "MEDIA_S3_SECRET_ACCESS_KEY": secret, "MEDIA_URL_EXPIRY": "300"}
        self.s3 = self._s3_client()
        self.s3.create_bucket(Bucket=BUCKET)
        self.cluster.shared_env.update({
            "DATABASE_URL": urls["database"], "CELERY_BROKER_URL": f"{urls['redis']}/0",
            "CACHE_URL": f"{urls['redis']}/1", "SECRET_KEY": secrets.token_urlsafe(40),
            "CLIPCAST_ENCRYPTION_KEYS": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
            "ALLOWED_HOSTS": self.hosts["web"].address, "SITE_URL": self.web_url,
            "SECURE_SSL_REDIRECT": "0", "SECURE_COOKIES": "0", "SECURE_HSTS_SECONDS": "0",
            "X_API_BASE_URL": urls["x"], "X_UPLOAD_BASE_URL": urls["x"], "X_WEB_BASE_URL": urls["x"],
            "X_CONSUMER_KEY": "clipcast-scaleout-consumer", "X_CONSUMER_SECRET": "clipcast-scaleout-consumer-secret",
            "CLIPCAST_TORCH_THREADS": "1", "LOG_LEVEL": "INFO", **self.s3_env, **FAST,
        })
        self.x_url = urls["x"]

    def _s3_client(self):
        import boto3

        return boto3.client("s3", endpoint_url=self.s3_env["MEDIA_S3_ENDPOINT_URL"],
                            region_name=self.s3_env["MEDIA_S3_REGION"],
                            aws_access_key_id=self.s3_env["MEDIA_S3_ACCESS_KEY_ID"],
                            aws_secret_access_key=self.s3_env["MEDIA_S3_SECRET_ACCESS_KEY"])

    def site(self) -> None:
        out = self.hosts["web"].run(["python", "-m", "tests.scaleout.site", "setup", self.x_url, self.password])
        self.site_info = json.loads(out.split("SCALEOUT-JSON ", 1)[1])
        self.api = requests.Session()
        self.api.headers["Authorization"] = f"Token {self.site_info['token']}"

    def start_hosts(self) -> None:
        web = self.hosts["web"]
        self.gunicorn = web.spawn("gunicorn", ["gunicorn", "clipcast.wsgi", "-b", f"{web.address}:{WEB_PORT}",
                                               "-w", "2", "--timeout", "300", "--access-logfile", "-"])
        publish = self.hosts["publish"]
        publish.spawn("beat", [*CELERY, "beat", "--loglevel", "INFO", "--pidfile=",
                               "--schedule", str(publish.tmp / "beat-schedule")])
        publish.spawn("worker", [*CELERY, "worker", "-Q", "default,publish", "-c", "2", "-n", "publish@%h",
                                 "--loglevel", "INFO"])
        for name in ("gpu-a", "gpu-b"):
            self.hosts[name].spawn("worker", [*CELERY, "worker", "-Q", "gpu", "-c", "1", "--prefetch-multiplier", "1",
                                              "-n", "gpu@%h", "--loglevel", "INFO"], CLIPCAST_WARM_MODEL="1")
        wait_for_port(web.address, WEB_PORT, self.gunicorn, timeout=90, log=web.logs / "gunicorn.log")
        for name in ("gpu-a", "gpu-b", "publish"):
            log = self.hosts[name].logs / "worker.log"
            wait(f"{name}'s worker to be ready", lambda log=log: " ready." in tail(log, 100_000), timeout=180,
                 on_timeout=lambda log=log: tail(log))

    # -- the run -------------------------------------------------------------------------------------------------
    def clips(self) -> list[dict]:
        with psycopg.connect(self.db, autocommit=True) as conn:
            rows = conn.execute("SELECT id, status, attempts, worker, progress FROM generation_clip ORDER BY id")
            return [dict(zip(("id", "status", "attempts", "worker", "progress"), r, strict=True)) for r in rows]

    def render(self) -> None:
        response = self.api.post(f"{self.web_url}/api/clips/batch/", json={
            "prompt_template": self.site_info["template"], "grid": GRID, "params": {"frames": 8}}, timeout=300)
        assert response.status_code == 201, response.text[:2000]
        created = response.json()["created"]
        assert len(created) == self.expected, f"the batch made {len(created)} clips"
        self.say(f"submitted {len(created)} clips through {self.web_url}/api/clips/batch/")

    def lose_gpu_a(self) -> None:
        """Kill gpu-a while it renders, once both hosts have finished work and some clips are still queued."""

        def moment() -> list[dict] | None:
            rows = self.clips()
            done = Counter(r["worker"].split(":")[0] for r in rows if r["status"] == "succeeded")
            queued = sum(r["status"] == "queued" for r in rows)
            busy = [r for r in rows if r["status"] == "rendering" and r["worker"].startswith("gpu-a:")
                    and 10 <= r["progress"] <= 90]  # in the middle of denoising, not loading or uploading
            mid_run = sum(done.values()) >= self.expected // 3 and queued >= 4
            return busy if done["gpu-a"] >= 2 and done["gpu-b"] >= 2 and mid_run else None

        in_flight = wait("gpu-a rendering mid-run", moment, timeout=300, every=0.05, on_timeout=self.clips)
        pids = self.hosts["gpu-a"].kill_all()
        self.killed_at = time.monotonic()
        self.killed_clips = sorted(r["id"] for r in in_flight)
        rows = self.clips()
        self.outcome.figures.update(killed_processes=len(pids), killed_during_clips=self.killed_clips,
                                    done_at_kill=sum(r["status"] == "succeeded" for r in rows))
        self.say(f"gpu-a lost: {len(pids)} processes killed while rendering clip(s) {self.killed_clips} "
                 f"at {[r['progress'] for r in in_flight]}%")
        self.outcome.check(not self.hosts["gpu-a"].pids(), "gpu-a still has processes after the kill")

    def finish_renders(self) -> None:
        def handed_back() -> bool:  # the reaper puts the lost clip back in the queue (behind the rest of it)
            rows = {r["id"]: r for r in self.clips()}
            return all(rows[i]["status"] != "rendering" or not rows[i]["worker"].startswith("gpu-a:")
                       for i in self.killed_clips)

        wait("the reaper to requeue gpu-a's clips", handed_back, timeout=120, every=0.2,
             on_timeout=lambda: [r for r in self.clips() if r["id"] in self.killed_clips])
        self.outcome.figures["requeued_after_s"] = round(time.monotonic() - self.killed_at, 1)
        wait("every clip to finish rendering",
             lambda: all(r["status"] in ("succeeded", "failed", "cancelled") for r in self.clips()),
             timeout=60 + 10 * self.expected, on_timeout=lambda: Counter(r["status"] for r in self.clips()))

    def publish(self) -> None:
        clips = self.api.get(f"{self.web_url}/api/clips/", params={"page_size": 100}, timeout=30).json()["results"]
        for clip in clips:
            if clip["status"] != "succeeded":
                continue
            approved = self.api.post(f"{self.web_url}/api/clips/{clip['id']}/approve/", timeout=30)
            assert approved.status_code == 200, approved.text[:1000]
            post = self.api.post(f"{self.web_url}/api/posts/", timeout=30, json={
                "clip": clip["id"], "x_account": self.site_info["account"], "caption": f"Scale-out clip {clip['id']}",
                "scheduled_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())})
            assert post.status_code == 201, post.text[:1000]

        def settled() -> bool:
            with psycopg.connect(self.db, autocommit=True) as conn:
                return not conn.execute("SELECT count(*) FROM publishing_post WHERE status NOT IN "
                                        "('posted', 'failed', 'cancelled')").fetchone()[0]

        wait("every post to be posted", settled, timeout=60 + 5 * self.expected)

    # -- the checks ----------------------------------------------------------------------------------------------
    def verify(self) -> None:
        out, fig = self.outcome, self.outcome.figures
        facts = json.loads(self.hosts["web"].run(["python", "-m", "tests.scaleout.site", "facts"])
                           .split("SCALEOUT-JSON ", 1)[1])
        clips, posts = facts["clips"], facts["posts"]
        succeeded = [c for c in clips if c["status"] == "succeeded"]
        per_host = Counter(c["worker"].split(":")[0] for c in succeeded)
        taken_over = [c["id"] for c in succeeded if c["attempts"] > 1]
        reaped = re.findall(r"clips\.reaped requeued=\[([\d, ]*)\]", tail(self.hosts["publish"].logs / "worker.log",
                                                                          10_000_000))
        fig.update(clips=len(clips), succeeded=len(succeeded), per_host=dict(per_host), taken_over=taken_over,
                   requeued_by_reaper=sorted(int(i) for ids in reaped for i in ids.split(",") if i.strip()))
        out.check(len(clips) == self.expected, f"{len(clips)} clips, expected {self.expected}")
        out.check(len(succeeded) == len(clips), "not every clip succeeded: "
                  + str([(c["id"], c["status"], c["error"][:80]) for c in clips if c["status"] != "succeeded"]))
        out.check(per_host["gpu-a"] > 0 and per_host["gpu-b"] > 0, f"both GPU hosts must take work: {per_host}")
        out.check(set(self.killed_clips) <= set(taken_over),
                  f"clips lost with gpu-a {self.killed_clips} were not taken over (retried: {taken_over})")
        out.check(set(self.killed_clips) <= set(fig["requeued_by_reaper"]),
                  f"the reaper did not requeue gpu-a's clips {self.killed_clips}: {fig['requeued_by_reaper']}")
        out.check(all(c["worker"].startswith("gpu-b:") for c in succeeded if c["id"] in self.killed_clips),
                  "a clip lost with gpu-a did not finish on gpu-b")

        # The bucket: exactly the objects the clips own (no copy from a cut-short render, nothing local).
        keys = set()
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET):
            keys.update(obj["Key"] for obj in page.get("Contents", []))
        owned = {c[f] for c in succeeded for f in ("video", "gif", "poster") if c[f]}
        owned_keys = {k for k in keys if any(k == name or k.endswith("/" + name) for name in owned)}
        fig.update(objects_in_bucket=len(keys), objects_owned=len(owned))
        out.check(len(owned) == 3 * len(succeeded), f"{len(owned)} media names for {len(succeeded)} clips")
        out.check(len(owned_keys) == len(owned) == len(keys),
                  f"bucket has {len(keys)} objects, clips own {len(owned)}; strays: {sorted(keys - owned_keys)[:10]}")
        key_of = {name: k for k in keys for name in owned if k == name or k.endswith("/" + name)}
        video_hash = {c["id"]: sha256(self.s3.get_object(Bucket=BUCKET, Key=key_of[c["video"]])["Body"].read())
                      for c in succeeded if c["video"] in key_of}

        # X: every clip posted exactly once, with its own MP4's bytes.
        on_x = requests.get(f"{self.x_url}/_sandbox/posts", params={"user_id": self.site_info["x_user_id"]},
                            timeout=30).json()["posts"]
        by_text = Counter(p["text"] for p in on_x)
        duplicates_x = sum(n - 1 for n in by_text.values() if n > 1)
        posted = [p for p in posts if p["status"] == "posted"]
        wrong_media = []
        for post in posted:
            mine = [p for p in on_x if p["id"] == post["x_post_id"]]
            data = requests.get(f"{self.x_url}/_sandbox/media/{mine[0]['media_id']}", timeout=30).content if mine \
                else b""
            if not mine or sha256(data) != video_hash.get(post["clip_id"]):
                wrong_media.append(post["id"])
        fig.update(posts=len(posts), posted=len(posted), on_x=len(on_x), duplicates_on_x=duplicates_x,
                   wrong_media=len(wrong_media))
        out.check(len(posts) == len(succeeded) and len(posted) == len(posts),
                  "not every post was posted: " + str([(p["id"], p["status"], p["last_error"][:80]) for p in posts
                                                       if p["status"] != "posted"]))
        out.check(len(on_x) == len(posts) and duplicates_x == 0, f"{len(on_x)} posts on X for {len(posts)} posts, "
                  f"{duplicates_x} duplicates")
        out.check(not wrong_media, f"posts whose media on X is not their clip's MP4: {wrong_media}")

        self.verify_disks()
        self.verify_dashboard(succeeded[0]["id"], video_hash.get(succeeded[0]["id"]))
        fig["duplicates"] = duplicates_x + (len(keys) - len(owned_keys))
        fig["lost"] = (len(clips) - len(succeeded)) + (len(posts) - len(posted)) + max(0, self.expected - len(clips))

    def verify_disks(self) -> None:
        """No media on any host's disk, no render scratch left, and no host can see another host's directory."""
        out = self.outcome
        local = {}
        for name in self.hosts:
            files = self.cluster.files_of(name)
            # A lost host's scratch folder dies with its disk; a live host must have cleaned its own.
            local[name] = [str(f) for f in files if f.parts[0] == "media"
                           or ("clipcast-render-" in str(f) and name != "gpu-a")]
        out.check(not any(local.values()), f"media or render scratch on a host's own disk: {local}")
        self.outcome.figures["media_files_on_hosts"] = sum(map(len, local.values()))
        # It lists the other hosts' directories and tries this machine's own PostgreSQL and Redis on 127.0.0.1
        # (the shared ones, which the hosts must not reach: inside a namespace 127.0.0.1 is the host's own).
        probe = ("import json, os, socket, sys; me, others = sys.argv[1], sys.argv[2:]\n"
                 "def reach(port):\n"
                 "    try:\n"
                 "        socket.create_connection(('127.0.0.1', port), timeout=2).close()\n"
                 "        return [f'127.0.0.1:{port} answers']\n"
                 "    except OSError:\n"
                 "        return []\n"
                 "print(json.dumps({**{o: os.listdir(o) for o in others}, 'loopback': reach(5432) + reach(6379)}))")
        for name, host in self.hosts.items():
            if name == "gpu-a":
                continue  # lost
            others = [str(h.dir) for h in self.hosts.values() if h is not host]
            seen = json.loads(host.run(["python", "-c", probe, str(host.dir), *others]).strip().splitlines()[-1])
            out.check(not any(seen.values()), f"{name} can see another host's directory or this machine's "
                      f"services: {seen}")

    def verify_dashboard(self, clip_id: int, video_sha: str | None) -> None:
        """A member opens the clip's page on the web host; the player's URL is a presigned bucket URL."""
        out, browser = self.outcome, requests.Session()
        anonymous = requests.get(f"{self.web_url}/clips/{clip_id}/", timeout=30, allow_redirects=False)
        out.check(anonymous.status_code in (301, 302), f"clip page without login answered {anonymous.status_code}")
        form = browser.get(f"{self.web_url}/login/", timeout=30).text
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form)
        assert token, "no CSRF token on the login page"
        login = browser.post(f"{self.web_url}/login/", timeout=30, allow_redirects=False, data={
            "username": self.site_info["username"], "password": self.password, "csrfmiddlewaretoken": token.group(1)},
            headers={"Referer": f"{self.web_url}/login/"})
        out.check(login.status_code == 302, f"login answered {login.status_code}")
        page = browser.get(f"{self.web_url}/clips/{clip_id}/", timeout=30)
        match = re.search(rf'src="([^"]+)" id="clip-{clip_id}-video"', page.text) or \
            re.search(r'<video[^>]*\ssrc="([^"]+)"', page.text)
        out.check(page.status_code == 200 and match is not None, f"clip page {page.status_code} without a player")
        if not match:
            return
        url = unescape(match.group(1))
        parts = urlsplit(url)
        presigned = "X-Amz-Signature=" in parts.query or "Signature=" in parts.query
        self.outcome.figures["player_url"] = f"{parts.scheme}://{parts.netloc}{parts.path} (presigned: {presigned})"
        out.check(parts.netloc == urlsplit(self.s3_env["MEDIA_S3_ENDPOINT_URL"]).netloc and presigned,
                  f"the player's URL is not a presigned bucket URL: {url[:200]}")
        media = requests.get(url, timeout=30)  # no cookie: the signature alone grants it
        out.check(media.status_code == 200 and sha256(media.content) == video_sha,
                  f"the player's URL answered {media.status_code} with other bytes than the clip's MP4")


def run(clips: int = 24, keep: bool = False, say=print) -> Outcome:
    started = time.monotonic()
    with Cluster(HOSTS, keep=keep) as cluster:
        scenario = Scenario(cluster, clips, say=say)
        try:
            scenario.services()
            say(f"services on {cluster.address} (bridge {cluster.bridge}, {cluster.net}); hosts: "
                + ", ".join(f"{h.name} {h.address}" for h in cluster.hosts.values()))
            scenario.site()
            scenario.start_hosts()
            render_started = time.monotonic()
            scenario.render()
            scenario.lose_gpu_a()
            scenario.finish_renders()
            scenario.outcome.figures["render_s"] = round(time.monotonic() - render_started, 1)
            scenario.publish()
            scenario.verify()
        except Exception as exc:
            scenario.outcome.failures.append(f"{type(exc).__name__}: {exc}")
            for host in cluster.hosts.values():
                for log in sorted(host.logs.glob("*.log")):
                    say(f"--- {host.name}/{log.name}\n{tail(log, 1500)}")
        scenario.outcome.figures["wall_s"] = round(time.monotonic() - started, 1)
        if keep:
            say(f"kept {cluster.root}")
    return scenario.outcome


if __name__ == "__main__":
    import sys

    result = run(keep="--keep" in sys.argv)
    print(json.dumps(result.figures, indent=1))
    print("FAILED:\n  " + "\n  ".join(result.failures) if result.failures else "scale-out proof holds")
    sys.exit(1 if result.failures else 0)
