from __future__ import annotations

import pytest

from accounts.models import Membership, Role, Workspace
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_a_user_sees_only_workspaces_they_belong_to():
    mine = MembershipFactory(role=Role.VIEWER)
    MembershipFactory()  # someone else's workspace
    assert list(Workspace.objects.for_user(mine.user)) == [mine.workspace]


@pytest.mark.parametrize(
    ("role", "at_least", "expected"),
    [
        (Role.OWNER, Role.EDITOR, True),
        (Role.EDITOR, Role.EDITOR, True),
        (Role.REVIEWER, Role.EDITOR, False),
        (Role.REVIEWER, Role.REVIEWER, True),
        (Role.VIEWER, Role.REVIEWER, False),
    ],
)
def test_roles_are_ordered(role, at_least, expected):
    membership = MembershipFactory(role=role)
    assert membership.has_role(at_least) is expected
    assert Membership.objects.with_role_at_least(at_least).filter(pk=membership.pk).exists() is expected


def test_role_of_an_outsider_is_none():
    membership = MembershipFactory(role=Role.OWNER)
    assert membership.workspace.role_of(membership.user) == Role.OWNER
    assert membership.workspace.role_of(UserFactory()) is None
