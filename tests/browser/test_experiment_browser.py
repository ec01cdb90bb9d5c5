"""An A/B experiment from start to winner in a real browser, on the X sandbox: the marketer starts it from the
campaign, fills two slots, the posts go out (the publisher runs in this process), the sandbox's audience likes
the blue variant four times as much, the periodic metrics refresh reads them back and declares the winner, and
the experiment page shows it with its confidence and the rates as a chart."""

from __future__ import annotations

import pytest

from accounts.models import Role
from publishing.models import Experiment, ExperimentStatus
from publishing.tasks import refresh_metrics
from tests.browser.test_media_playback import log_in
from tests.factories import MembershipFactory
from tests.publishing.conftest import make_video, sandbox, sandbox_server  # noqa: F401 - fixtures
from tests.publishing.test_experiments import grid_campaign, publish_all
from tests.publishing.test_publish_worker import connected_account, x_env  # noqa: F401 - fixture

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def test_an_experiment_from_start_to_winner(live_server, page, screenshot, sandbox, x_env,  # noqa: F811
                                            make_video):  # noqa: F811
    template = grid_campaign(make_video, colours=("red", "blue"))
    campaign = template.campaign
    account = connected_account(sandbox, campaign.workspace)
    editor = MembershipFactory(workspace=campaign.workspace, role=Role.EDITOR).user
    editor.set_password("ab-test-pw-1")
    editor.save()

    log_in(page, live_server.url, editor.username, "ab-test-pw-1")
    page.goto(f"{live_server.url}/campaigns/{campaign.pk}/")
    page.click("#new-experiment")
    page.get_by_label("Prompt template").select_option(label=template.name)
    page.get_by_label("Post on").select_option(label=str(account))
    page.get_by_label("Impressions per variant").fill("2000")
    page.click("#start-experiment")
    page.wait_for_selector("#fill-form")
    page.get_by_label("Slots to fill").fill("2")
    page.click("#fill-slots")
    page.wait_for_selector("text=Scheduled 2 posts of the experiment")
    assert page.locator("#experiment-posts tbody tr").count() == 2
    screenshot(page, "experiment-running")

    experiment = Experiment.objects.get()
    publish_all(list(experiment.posts.all()), sandbox)  # an hour old on X: 10,800 impressions each
    sandbox.audience(like_rate=0.02, rules=[{"text_contains": "blue", "like_rate": 0.08}])
    refresh_metrics()  # what the beat runs every METRICS_INTERVAL

    page.reload()
    assert page.locator("#winner-label").inner_text() == "colour=blue, shape=circle"
    assert float(page.locator("#winner-confidence").get_attribute("data-confidence")) >= 0.99
    assert page.locator("#experiment-status").inner_text() == "Winner declared"
    rates = {row.get_attribute("data-variant"): float(row.locator("td.rate").inner_text())
             for row in page.locator("#variants tbody tr").all()}
    assert rates["colour=blue, shape=circle"] > 3 * rates["colour=red, shape=circle"]
    assert page.locator(".charts svg").count() == 1
    screenshot(page, "experiment-winner")
    assert Experiment.objects.get().status == ExperimentStatus.DECIDED
