"""Project-wide test settings from the clipcast.testing plugin."""

from __future__ import annotations

import pytest

from tests.factories import UserFactory


@pytest.mark.django_db
def test_users_made_by_factories_get_the_fast_password_hash_in_every_test_folder():
    user = UserFactory()

    assert user.password.startswith("md5$")
    assert user.check_password("pw-correct-horse-42")
