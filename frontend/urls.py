from django.contrib.auth import views as auth_views
from django.urls import path

from frontend import proposal_views, views
from frontend.forms import ThrottledAuthenticationForm

urlpatterns = [
    path("", views.home, name="home"),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True, authentication_form=ThrottledAuthenticationForm),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("bureaus/", views.bureau_list, name="bureau-list"),
    path("bureaus/<str:code>/", views.bureau_detail, name="bureau-detail"),
    path("profile/", views.profile, name="profile"),
    path("proposals/<int:pk>/", proposal_views.proposal_detail, name="proposal-detail"),
]
