"""Brand LoRAs: upload (checked against the model's keys), roles and workspaces, campaigns that pick LoRAs with
weights and clips that record them, in the API, the dashboard and the admin. Rendering with them:
test_brand_lora_renders.py."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.models import Role
from generation import services
from generation.models import BrandLora, CampaignLora
from tests.factories import CampaignFactory, MembershipFactory, UserFactory
from tests.generation.lora_files import make_lora, safetensors_bytes

pytestmark = pytest.mark.django_db

ROLES_THAT_MAY_WRITE = [Role.OWNER, Role.EDITOR]
ROLES_THAT_MAY_NOT = [Role.REVIEWER, Role.VIEWER]


@pytest.fixture
def api_as(mine):
    def client_for(role: Role) -> APIClient:
        client = APIClient()
        client.force_authenticate(MembershipFactory(workspace=mine.workspace, role=role).user)
        return client

    return client_for


@pytest.fixture(autouse=True)
def _media(lora_media):
    pass


def upload(client: APIClient, workspace, content: bytes, *, name="Acme look", filename="acme.safetensors",
           model_key="bundled"):
    return client.post("/api/brand-loras/", {
        "workspace": workspace.pk, "name": name, "model_key": model_key,
        "file": SimpleUploadedFile(filename, content, content_type="application/octet-stream"),
    }, format="multipart")


# --- upload -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES_THAT_MAY_WRITE, ids=lambda r: r.value)
def test_an_owner_or_editor_uploads_a_lora_that_is_checked_and_stored(api_as, mine, lora_bytes, media_root, role):
    response = upload(api_as(role), mine.workspace, lora_bytes)

    assert response.status_code == 201, response.content[:500]
    body = response.json()
    lora = BrandLora.objects.get(pk=body["id"])
    assert body["sha256"] == lora.sha256 and len(lora.sha256) == 64
    assert (body["name"], body["model_key"], body["size"]) == ("Acme look", "bundled", len(lora_bytes))
    assert "file" not in body  # never a public address
    assert (media_root / lora.file.name).read_bytes() == lora_bytes
    assert lora.file.name.startswith(f"loras/{mine.workspace.pk}/{lora.sha256}-")


@pytest.mark.parametrize("role", ROLES_THAT_MAY_NOT, ids=lambda r: r.value)
def test_a_reviewer_or_viewer_may_not_upload(api_as, mine, lora_bytes, role):
    response = upload(api_as(role), mine.workspace, lora_bytes)

    assert response.status_code == 403
    assert not BrandLora.objects.exists()


def test_a_member_of_another_workspace_cannot_upload_here_nor_see_ours(mine, theirs, lora_bytes):
    ours = make_lora(mine.workspace, lora_bytes)
    outsider = MembershipFactory(workspace=theirs.workspace, role=Role.OWNER).user
    client = APIClient()
    client.force_authenticate(outsider)

    assert upload(client, mine.workspace, lora_bytes, name="x").status_code == 400
    assert client.get("/api/brand-loras/").json()["results"] == []
    assert client.get(f"/api/brand-loras/{ours.pk}/").status_code == 404
    assert client.delete(f"/api/brand-loras/{ours.pk}/").status_code == 404
    assert BrandLora.objects.filter(pk=ours.pk).exists()


def test_a_lora_whose_keys_the_model_lacks_is_refused_naming_them(api_as, mine):
    foreign = safetensors_bytes({"unet.input_blocks.4.1.proj_in.lora_A.weight": [4, 640],
                                 "unet.input_blocks.4.1.proj_in.lora_B.weight": [640, 4]})

    response = upload(api_as(Role.EDITOR), mine.workspace, foreign)

    assert response.status_code == 400
    message = " ".join(response.json()["file"])
    assert "2 of 2 keys" in message and "unet.input_blocks.4.1.proj_in.lora_A.weight" in message
    assert not BrandLora.objects.exists()


@pytest.mark.parametrize(("filename", "content", "expected"), [
    ("acme.ckpt", b"\x80\x04 a pickle", "is not a .safetensors file"),
    ("acme.safetensors", b"PK\x03\x04 a zip, renamed", "not a safetensors file"),
    ("acme.safetensors", b"", "empty"),
])
def test_a_file_of_the_wrong_type_is_refused_plainly(api_as, mine, filename, content, expected):
    response = upload(api_as(Role.EDITOR), mine.workspace, content, filename=filename)

    assert response.status_code == 400
    assert expected in str(response.json())


def test_a_file_over_the_size_limit_is_refused_before_it_is_read(api_as, mine, settings):
    settings.CLIPCAST_LORA_MAX_MB = 1

    response = upload(api_as(Role.EDITOR), mine.workspace, b"\0" * (1024 * 1024 + 1))

    assert response.status_code == 400
    assert "the limit is 1 MB" in str(response.json())


def test_an_unknown_model_and_a_second_copy_of_a_file_are_refused(api_as, mine, lora_bytes):
    client = api_as(Role.EDITOR)

    unknown = upload(client, mine.workspace, lora_bytes, model_key="sdxl-nonexistent")
    first = upload(client, mine.workspace, lora_bytes)
    again = upload(client, mine.workspace, lora_bytes, name="Same file")

    assert unknown.status_code == 400 and "Unknown model 'sdxl-nonexistent'" in str(unknown.json())
    assert first.status_code == 201
    assert again.status_code == 400 and "already uploaded in this workspace as “Acme look”" in str(again.json())


def test_an_editor_deletes_a_lora_and_its_file(api_as, mine, lora_bytes, media_root):
    lora = make_lora(mine.workspace, lora_bytes)
    stored = media_root / lora.file.name

    assert api_as(Role.VIEWER).delete(f"/api/brand-loras/{lora.pk}/").status_code == 403
    assert api_as(Role.EDITOR).delete(f"/api/brand-loras/{lora.pk}/").status_code == 204
    assert not BrandLora.objects.exists() and not stored.exists()


# --- campaigns pick LoRAs -----------------------------------------------------------------------------------


def test_an_editor_attaches_a_lora_with_a_weight_and_changes_the_weight(api_as, mine, lora_bytes):
    lora = make_lora(mine.workspace, lora_bytes)
    client = api_as(Role.EDITOR)

    created = client.post("/api/campaign-loras/", {"campaign": mine.campaign.pk, "lora": lora.pk, "weight": 0.8},
                          format="json")
    changed = client.patch(f"/api/campaign-loras/{created.json()['id']}/", {"weight": 0.5}, format="json")

    assert created.status_code == 201, created.content[:300]
    assert created.json()["lora_sha256"] == lora.sha256
    assert changed.status_code == 200 and changed.json()["weight"] == 0.5
    assert list(mine.campaign.lora_links.values_list("lora", "weight")) == [(lora.pk, 0.5)]


@pytest.mark.parametrize("role", ROLES_THAT_MAY_NOT, ids=lambda r: r.value)
def test_a_reviewer_or_viewer_may_not_attach_change_or_remove(api_as, mine, lora_bytes, role):
    lora = make_lora(mine.workspace, lora_bytes)
    link = CampaignLora.objects.create(campaign=mine.campaign, lora=lora, weight=1.0)
    client = api_as(role)

    assert client.post("/api/campaign-loras/", {"campaign": mine.campaign.pk, "lora": lora.pk},
                       format="json").status_code in (400, 403)  # 400: already attached is checked first
    assert client.patch(f"/api/campaign-loras/{link.pk}/", {"weight": 0.1}, format="json").status_code == 403
    assert client.delete(f"/api/campaign-loras/{link.pk}/").status_code == 403
    assert client.get(f"/api/campaign-loras/{link.pk}/").status_code == 200
    link.refresh_from_db()
    assert link.weight == 1.0


def test_a_viewer_attaching_a_new_lora_gets_403(api_as, mine, lora_bytes):
    lora = make_lora(mine.workspace, lora_bytes)

    response = api_as(Role.VIEWER).post("/api/campaign-loras/", {"campaign": mine.campaign.pk, "lora": lora.pk},
                                        format="json")

    assert response.status_code == 403
    assert not CampaignLora.objects.exists()


def test_a_lora_of_another_workspace_cannot_be_attached_even_by_a_member_of_both(mine, theirs, lora_bytes):
    their_lora = make_lora(theirs.workspace, lora_bytes)
    both = UserFactory()
    for world in (mine, theirs):
        MembershipFactory(workspace=world.workspace, user=both, role=Role.OWNER)
    client = APIClient()
    client.force_authenticate(both)

    response = client.post("/api/campaign-loras/", {"campaign": mine.campaign.pk, "lora": their_lora.pk},
                           format="json")

    assert response.status_code == 400
    assert "belongs to another workspace" in str(response.json())


def test_outsiders_see_no_links_and_cannot_attach_to_our_campaign(mine, theirs, lora_bytes):
    link = CampaignLora.objects.create(campaign=mine.campaign, lora=make_lora(mine.workspace, lora_bytes))
    their_lora = make_lora(theirs.workspace, lora_bytes)
    outsider = MembershipFactory(workspace=theirs.workspace, role=Role.OWNER).user
    client = APIClient()
    client.force_authenticate(outsider)

    assert client.get(f"/api/campaign-loras/{link.pk}/").status_code == 404
    assert client.patch(f"/api/campaign-loras/{link.pk}/", {"weight": 2}, format="json").status_code == 404
    assert client.post("/api/campaign-loras/", {"campaign": mine.campaign.pk, "lora": their_lora.pk},
                       format="json").status_code == 400


def test_weights_out_of_range_and_models_that_differ_are_refused(api_as, mine, lora_bytes, settings, tmp_path):
    lora = make_lora(mine.workspace, lora_bytes)
    client = api_as(Role.EDITOR)
    settings.CLIPCAST_MODELS = {"other": str(tmp_path)}
    other_model = CampaignFactory(workspace=mine.workspace, model_key="other")

    heavy = client.post("/api/campaign-loras/", {"campaign": mine.campaign.pk, "lora": lora.pk, "weight": 9},
                        format="json")
    mismatch = client.post("/api/campaign-loras/", {"campaign": other_model.pk, "lora": lora.pk}, format="json")

    assert heavy.status_code == 400 and "weight" in heavy.json()
    assert mismatch.status_code == 400 and "was made for model “bundled”" in str(mismatch.json())


def test_clips_record_the_campaign_loras_and_the_same_seed_without_them_is_another_clip(mine, lora_bytes):
    template = mine.template
    row = {name: values[0] for name, values in template.variables.items()}
    without = services.create_clips(template, [row], seed_policy=services.SeedPolicy.FIXED, seed=11)
    lora = make_lora(mine.workspace, lora_bytes)
    CampaignLora.objects.create(campaign=mine.campaign, lora=lora, weight=0.7)

    with_lora = services.create_clips(template, [row], seed_policy=services.SeedPolicy.FIXED, seed=11)
    again = services.create_clips(template, [row], seed_policy=services.SeedPolicy.FIXED, seed=11)

    assert without.clips[0].loras == []
    assert with_lora.duplicates == 0
    assert with_lora.clips[0].loras == [{"name": "Acme look", "sha256": lora.sha256, "weight": 0.7}]
    assert again.duplicates == 1


def test_the_clip_api_shows_the_loras_a_clip_renders_with(api_as, mine):
    mine.approved.loras = [{"name": "Acme look", "sha256": "ab" * 32, "weight": 0.7}]
    mine.approved.save(update_fields=["loras"])

    body = api_as(Role.VIEWER).get(f"/api/clips/{mine.approved.pk}/").json()

    assert body["loras"] == [{"name": "Acme look", "sha256": "ab" * 32, "weight": 0.7}]


def test_the_schema_documents_the_multipart_upload(api_as):
    schema = api_as(Role.VIEWER).get("/api/schema/", HTTP_ACCEPT="application/json").content.decode()

    assert "/api/brand-loras/" in schema and "/api/campaign-loras/" in schema
    assert "multipart/form-data" in schema


# --- dashboard ----------------------------------------------------------------------------------------------


def dashboard_upload(client, content: bytes, *, name="Acme look", filename="acme.safetensors"):
    return client.post(reverse("dashboard:loras"), {
        "name": name, "model_key": "bundled", "file": SimpleUploadedFile(filename, content),
    })


def test_an_editor_uploads_a_lora_on_the_loras_page_and_sees_it_listed(editor, mine, lora_bytes):
    response = dashboard_upload(editor, lora_bytes)

    assert response.status_code == 302
    lora = BrandLora.objects.get()
    assert (lora.workspace, lora.uploaded_by) == (mine.workspace, editor.user)
    page = editor.get(reverse("dashboard:loras")).content.decode()
    assert "Acme look" in page and lora.sha256[:12] in page and 'id="lora-upload"' in page


def test_the_upload_form_names_the_keys_the_model_lacks(editor):
    foreign = safetensors_bytes({"unet.input_blocks.4.1.proj_in.lora_A.weight": [4, 640]})

    response = dashboard_upload(editor, foreign)

    assert response.status_code == 400
    assert "unet.input_blocks.4.1.proj_in.lora_A.weight" in response.content.decode()
    assert not BrandLora.objects.exists()


def test_the_upload_form_refuses_another_file_type(editor):
    response = dashboard_upload(editor, b"\x80\x04 a pickle", filename="acme.ckpt")

    assert response.status_code == 400
    assert "is not a .safetensors file" in response.content.decode()


@pytest.mark.parametrize("role", ROLES_THAT_MAY_NOT, ids=lambda r: r.value)
def test_a_reviewer_or_viewer_sees_the_loras_but_cannot_upload_or_delete(login_as, mine, lora_bytes, role):
    lora = make_lora(mine.workspace, lora_bytes)
    client = login_as(role)

    page = client.get(reverse("dashboard:loras"))
    upload_response = dashboard_upload(client, lora_bytes, name="Mine too")
    delete_response = client.post(reverse("dashboard:lora_delete", args=[lora.pk]))

    assert page.status_code == 200 and "Acme look" in page.content.decode()
    assert 'id="lora-upload"' not in page.content.decode()
    assert (upload_response.status_code, delete_response.status_code) == (403, 403)
    assert list(BrandLora.objects.values_list("name", flat=True)) == ["Acme look"]


def test_another_workspace_never_sees_or_deletes_our_loras(login_as, mine, theirs, lora_bytes):
    lora = make_lora(mine.workspace, lora_bytes)
    outsider = login_as(Role.OWNER, workspace=theirs.workspace)

    assert "Acme look" not in outsider.get(reverse("dashboard:loras")).content.decode()
    assert outsider.post(reverse("dashboard:lora_delete", args=[lora.pk])).status_code == 404
    assert BrandLora.objects.filter(pk=lora.pk).exists()


def test_the_campaign_form_picks_loras_with_weights(editor, mine, lora_bytes):
    lora = make_lora(mine.workspace, lora_bytes)
    url = reverse("dashboard:campaign_edit", args=[mine.campaign.pk])
    form = editor.get(url).content.decode()
    fields = {"name": mine.campaign.name, "status": mine.campaign.status, "timezone": "UTC",
              "approval_required": "on", "frames": 8, "fps": 8, "width": 64, "height": 64, "output_width": 720,
              "output_height": 720, "steps": 20, "guidance": 7.5, "negative_prompt": ""}

    picked = editor.post(url, {**fields, f"loras-lora_{lora.pk}": "0.6"})
    too_heavy = editor.post(url, {**fields, f"loras-lora_{lora.pk}": "5"})
    mine.campaign.refresh_from_db()
    after_refusal = list(mine.campaign.lora_links.values_list("lora", "weight"))
    cleared = editor.post(url, {**fields, f"loras-lora_{lora.pk}": ""})

    assert f'name="loras-lora_{lora.pk}"' in form and "Acme look" in form
    assert picked.status_code == 302 and after_refusal == [(lora.pk, 0.6)]
    assert too_heavy.status_code == 200 and "Ensure this value is less than or equal to 2" in too_heavy.content.decode()
    assert cleared.status_code == 302 and not mine.campaign.lora_links.exists()


def test_the_clip_page_shows_the_loras_it_rendered_with(viewer, mine):
    mine.approved.loras = [{"name": "Acme look", "sha256": "cd" * 32, "weight": 0.7}]
    mine.approved.save(update_fields=["loras"])

    page = viewer.get(reverse("dashboard:clip", args=[mine.approved.pk])).content.decode()

    assert 'id="clip-loras"' in page and "Acme look at weight 0.7" in page and "cd" * 6 in page


# --- admin --------------------------------------------------------------------------------------------------


def test_the_admin_uploads_through_the_same_checks(client, superuser, mine, lora_bytes):
    client.force_login(superuser)
    url = reverse("admin:generation_brandlora_add")
    base = {"workspace": mine.workspace.pk, "name": "Admin look", "model_key": "bundled",
            "campaign_links-TOTAL_FORMS": 0, "campaign_links-INITIAL_FORMS": 0}

    refused = client.post(url, {**base, "upload": SimpleUploadedFile("x.safetensors", b"not safetensors at all")})
    accepted = client.post(url, {**base, "upload": SimpleUploadedFile("x.safetensors", lora_bytes)})

    assert refused.status_code == 200 and "not a safetensors file" in refused.content.decode()
    assert accepted.status_code == 302, accepted.content.decode()[:2000]
    lora = BrandLora.objects.get()
    assert (lora.name, lora.uploaded_by) == ("Admin look", superuser)
    assert client.get(reverse("admin:generation_brandlora_change", args=[lora.pk])).status_code == 200
    assert client.get(reverse("admin:generation_campaignlora_add")).status_code == 200


# --- audit log ----------------------------------------------------------------------------------------------


def test_uploading_attaching_and_deleting_a_lora_each_write_one_audit_event(api_as, mine, lora_bytes):
    from accounts.models import AuditEvent

    client = api_as(Role.EDITOR)
    lora_id = upload(client, mine.workspace, lora_bytes).json()["id"]
    link_id = client.post("/api/campaign-loras/", {"campaign": mine.campaign.pk, "lora": lora_id, "weight": 0.8},
                          format="json").json()["id"]
    client.patch(f"/api/campaign-loras/{link_id}/", {"weight": 0.5}, format="json")
    client.delete(f"/api/brand-loras/{lora_id}/")

    events = list(AuditEvent.objects.filter(object_type__in=["generation.brandlora", "generation.campaignlora"])
                  .order_by("pk").values_list("action", "object_type", "object_id", "workspace_id"))
    assert events == [
        ("uploaded", "generation.brandlora", str(lora_id), mine.workspace.pk),
        ("created", "generation.campaignlora", str(link_id), mine.workspace.pk),
        ("updated", "generation.campaignlora", str(link_id), mine.workspace.pk),
        ("deleted", "generation.brandlora", str(lora_id), mine.workspace.pk),
    ]
    assert AuditEvent.objects.get(action="updated", object_type="generation.campaignlora").changes == {
        "weight": [0.8, 0.5]}


def test_the_campaign_form_records_each_lora_it_adds_changes_or_removes(editor, mine, lora_bytes):
    from accounts.models import AuditEvent

    lora = make_lora(mine.workspace, lora_bytes)
    url = reverse("dashboard:campaign_edit", args=[mine.campaign.pk])
    fields = {"name": mine.campaign.name, "status": mine.campaign.status, "timezone": "UTC",
              "approval_required": "on", "frames": 8, "fps": 8, "width": 64, "height": 64, "output_width": 720,
              "output_height": 720, "steps": 20, "guidance": 7.5, "negative_prompt": ""}
    start = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0

    for weight in ("0.6", "0.9", ""):
        assert editor.post(url, {**fields, f"loras-lora_{lora.pk}": weight}).status_code == 302

    actions = list(AuditEvent.objects.filter(pk__gt=start, object_type="generation.campaignlora")
                   .order_by("pk").values_list("action", flat=True))
    assert actions == ["created", "updated", "deleted"]
