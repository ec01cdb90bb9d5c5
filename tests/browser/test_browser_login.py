from __future__ import annotations

import pytest
from django.core.management import call_command

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def test_a_marketer_logs_in_and_sees_the_dashboard(live_server, page, screenshot):
    call_command("seed_demo", password="browser-pw-1")
    page.goto(f"{live_server.url}/login/")
    screenshot(page, "01-login")
    page.get_by_label("Username").fill("marketer")
    page.get_by_label("Password").fill("browser-pw-1")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{live_server.url}/**")
    assert "Shapes launch" in page.content()
    screenshot(page, "02-dashboard")
    page.set_viewport_size({"width": 390, "height": 844})
    screenshot(page, "02-dashboard-mobile")
