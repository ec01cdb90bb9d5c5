from __future__ import annotations

from django.urls import path

from dashboard.views import (
    accounts,
    audit,
    best_times,
    calendar,
    campaigns,
    clips,
    conversation,
    editor,
    experiments,
    generate,
    home,
    loras,
    members,
    planner,
    posts,
    usage,
)

app_name = "dashboard"

urlpatterns = [
    path("", campaigns.campaign_list, name="home"),
    path("workspace/switch/", home.switch, name="switch_workspace"),
    # Campaigns and their templates
    path("campaigns/", campaigns.campaign_list, name="campaigns"),
    path("campaigns/new/", campaigns.campaign_create, name="campaign_create"),
    path("campaigns/<int:pk>/", campaigns.campaign_detail, name="campaign"),
    path("campaigns/<int:pk>/edit/", campaigns.campaign_edit, name="campaign_edit"),
    path("campaigns/<int:pk>/archive/", campaigns.campaign_archive, name="campaign_archive"),
    path("campaigns/<int:pk>/slots/", campaigns.slot_add, name="slot_add"),
    path("slots/<int:pk>/delete/", campaigns.slot_delete, name="slot_delete"),
    path("campaigns/<int:campaign_pk>/prompts/new/", editor.prompt_create, name="prompt_create"),
    path("prompts/<int:pk>/edit/", editor.prompt_edit, name="prompt_edit"),
    path("prompts/<int:pk>/delete/", editor.template_delete, {"kind": "prompt"}, name="prompt_delete"),
    path("campaigns/<int:campaign_pk>/captions/new/", editor.caption_create, name="caption_create"),
    path("captions/<int:pk>/edit/", editor.caption_edit, name="caption_edit"),
    path("captions/<int:pk>/delete/", editor.template_delete, {"kind": "caption"}, name="caption_delete"),
    path("campaigns/<int:campaign_pk>/preview/", editor.template_preview, name="template_preview"),
    path("captions/count/", editor.caption_counter, name="caption_counter"),
    # Generating and reviewing clips
    path("campaigns/<int:campaign_pk>/generate/", generate.generate, name="generate"),
    path("campaigns/<int:campaign_pk>/generate/count/", generate.generate_count, name="generate_count"),
    path("clips/", clips.clip_list, name="clips"),
    path("clips/progress/", clips.clip_progress, name="clip_progress"),
    path("clips/<int:pk>/", clips.clip_detail, name="clip"),
    path("clips/<int:pk>/retry/", clips.clip_retry, name="clip_retry"),
    path("clips/<int:pk>/cancel/", clips.clip_cancel, name="clip_cancel"),
    path("clips/<int:pk>/review/", clips.clip_review, name="clip_review"),
    path("clips/<int:pk>/comment/", conversation.clip_comment, name="clip_comment"),
    path("notifications/", conversation.notification_list, name="notifications"),
    path("notifications/<int:pk>/open/", conversation.notification_open, name="notification_open"),
    path("notifications/read-all/", conversation.notification_read_all, name="notification_read_all"),
    # Scheduling and posts
    path("clips/<int:clip_pk>/schedule/", posts.schedule, name="schedule"),
    path("posts/", posts.post_list, name="posts"),
    path("posts/<int:pk>/", posts.post_detail, name="post"),
    path("posts/<int:pk>/status/", posts.post_status, name="post_status"),
    path("posts/<int:pk>/reschedule/", posts.post_reschedule, name="post_reschedule"),
    path("posts/<int:pk>/cancel/", posts.post_cancel, name="post_cancel"),
    path("posts/<int:pk>/post-now/", posts.post_publish_now, name="post_publish_now"),
    path("calendar/", calendar.calendar, name="calendar"),
    # A/B experiments
    path("experiments/", experiments.experiment_list, name="experiments"),
    path("campaigns/<int:campaign_pk>/experiments/new/", experiments.experiment_create, name="experiment_create"),
    path("experiments/<int:pk>/", experiments.experiment_detail, name="experiment"),
    path("experiments/<int:pk>/fill/", experiments.experiment_fill, name="experiment_fill"),
    path("experiments/<int:pk>/decide/", experiments.experiment_decide, name="experiment_decide"),
    path("experiments/<int:pk>/stop/", experiments.experiment_stop, name="experiment_stop"),
    # X accounts
    path("accounts/", accounts.account_list, name="accounts"),
    path("accounts/new/", accounts.account_add, name="account_add"),
    path("accounts/<int:pk>/best-times/", best_times.best_times, name="account_best_times"),
    path("accounts/<int:pk>/tokens/", accounts.account_tokens, name="account_tokens"),
    path("accounts/connect/", accounts.x_connect, name="x_connect"),
    path("accounts/connect/callback/", accounts.x_callback, name="x_callback"),  # = settings.X_OAUTH2_REDIRECT_URI
    path("accounts/<int:pk>/reconnect/", accounts.x_reconnect, name="x_reconnect"),
    # Brand LoRAs
    path("loras/", loras.lora_list, name="loras"),
    path("loras/<int:pk>/delete/", loras.lora_delete, name="lora_delete"),
    # Members and invitations
    path("members/", members.member_list, name="members"),
    path("members/invitations/<int:pk>/revoke/", members.invitation_revoke, name="invitation_revoke"),
    path("invitations/", members.my_invitations, name="my_invitations"),
    path("invitations/<int:pk>/answer/", members.invitation_answer, name="invitation_answer"),
    path("invitations/<str:token>/", members.invitation_link, name="invitation_link"),  # the emailed link
    path("audit/", audit.audit_log, name="audit_log"),
    # Render cost
    path("usage/", usage.usage, name="usage"),
    # The marketer's week (#43): queues, posts from empty slots, bulk clip actions, the X preview, the export
    path("accounts/<int:pk>/queue/", planner.account_queue, name="account_queue"),
    path("accounts/<int:pk>/queue/pause/", planner.queue_pause, name="account_queue_pause"),
    path("accounts/<int:pk>/queue/post-next/", planner.queue_post_next, name="account_queue_post_next"),
    path("posts/<int:pk>/queue-move/", planner.queue_move, name="post_queue_move"),
    path("calendar/new/", planner.slot_post, name="calendar_new"),
    path("clips/bulk/", planner.clip_bulk, name="clip_bulk"),
    path("clips/<int:clip_pk>/x-preview/", planner.post_preview_panel, name="clip_x_preview"),
    path("posts/export.csv", planner.post_export, name="post_export"),
]
