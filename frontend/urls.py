from django.contrib.auth import views as auth_views
from django.urls import path

from frontend import views, views_account, views_search
from frontend.views_desk import calls as desk_calls
from frontend.views_desk import deputy as desk_deputy
from frontend.views_desk import office as desk_office
from frontend.views_desk import room as desk_room
from frontend.views_desk import workbench as desk_workbench
from frontend.views_proposals import act, deputy, detail, handling, notifications, office, statistics, supervision

urlpatterns = [
    path("", views.home, name="home"),
    path("accounts/login/", views_account.SignInView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/text-size/", views_account.switch_text_size, name="text-size"),
    path("accounts/password-reset/", views_account.ThrottledPasswordResetView.as_view(), name="password_reset"),
    path(
        "accounts/password-reset/sent/",
        auth_views.PasswordResetDoneView.as_view(template_name="registration/reset_sent.html"),
        name="password_reset_done",
    ),
    path(
        "accounts/reset/<uidb64>/<token>/",
        views_account.NewPasswordView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "accounts/reset/done/",
        auth_views.PasswordResetCompleteView.as_view(template_name="registration/reset_complete.html"),
        name="password_reset_complete",
    ),
    path("bureaus/", views.bureau_list, name="bureau-list"),
    path("bureaus/<str:code>/", views.bureau_detail, name="bureau-detail"),
    path("profile/", views.profile, name="profile"),
    # 建议/提案
    path("proposals/mine/", deputy.my_proposals, name="proposal-mine"),
    path("proposals/new/", deputy.proposal_new, name="proposal-new"),
    path("proposals/<int:pk>/", detail.proposal_detail, name="proposal-detail"),
    path("proposals/<int:pk>/edit/", deputy.proposal_edit, name="proposal-edit"),
    path("proposals/<int:pk>/act/<slug:name>/", act.act, name="proposal-act"),
    path(
        "proposals/<int:pk>/attachments/<int:attachment_id>/",
        detail.attachment_download,
        name="proposal-attachment",
    ),
    path("handling/", handling.work_queue, name="work-queue"),
    path("office/registration/", office.registration_desk, name="office-registration"),
    path("office/registration/bulk/", office.bulk_register, name="office-registration-bulk"),
    path("office/assignment/", office.assignment_desk, name="office-assignment"),
    path("office/assignment/bulk/", office.bulk_assign, name="office-assignment-bulk"),
    path("office/supervision/", supervision.supervision_desk, name="office-supervision"),
    path("office/statistics/", statistics.statistics, name="office-statistics"),
    # 在线咨询
    path("desk/", desk_deputy.desk, name="desk"),
    path("desk/start/", desk_deputy.start, name="desk-start"),
    path("desk/consultations/<int:pk>/", desk_room.room, name="desk-room"),
    path("desk/consultations/<int:pk>/calls/config/", desk_calls.call_config, name="desk-call-config"),
    path("desk/consultations/<int:pk>/calls/<int:call_id>/", desk_calls.replay, name="desk-call-replay"),
    path(
        "desk/consultations/<int:pk>/calls/<int:call_id>/tracks/<int:track_id>/",
        desk_calls.track_audio,
        name="desk-call-track",
    ),
    path("desk/consultations/<int:pk>/<slug:name>/", desk_room.act, name="desk-act"),
    path("desk/workbench/", desk_workbench.workbench, name="desk-workbench"),
    path("desk/workbench/presence/", desk_workbench.presence, name="desk-presence"),
    path("desk/statistics/", desk_office.statistics, name="desk-statistics"),
    path("desk/statistics/period/", desk_office.open_period, name="desk-period"),
    # 搜索
    path("search/", views_search.proposal_search, name="search"),
    path("search/messages/", views_search.message_search, name="search-messages"),
    path("search/transcripts/", views_search.transcript_search, name="search-transcripts"),
    path("search/similar/<int:pk>/", views_search.similar_to_proposal, name="search-similar"),
    path("notifications/", notifications.notification_list, name="notifications"),
    path("notifications/read/", notifications.notifications_read, name="notifications-read"),
    path("notifications/<int:pk>/", notifications.notification_open, name="notification-open"),
    path("notifications/preferences/", notifications.notification_preferences, name="notification-preferences"),
]
