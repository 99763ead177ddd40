"""The front door: signing in (the text size carried over), the text-size switch, and password reset by email.

Password reset is Django's own views and token (one use, ``PASSWORD_RESET_TIMEOUT``), with our templates in
Chinese and English and mail through ``EMAIL_BACKEND``; asking is throttled per address (``reset_throttle``).
"""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm, SetPasswordForm
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from consult.models import User
from consult.people import services
from frontend import reset_throttle, text_size
from frontend.forms import ThrottledAuthenticationForm


class SignInView(auth_views.LoginView):
    """Django's sign-in; a large-text choice made on the sign-in page goes onto the account."""

    authentication_form = ThrottledAuthenticationForm
    redirect_authenticated_user = True

    def form_valid(self, form: AuthenticationForm) -> HttpResponse:
        response = super().form_valid(form)
        user = form.get_user()
        if isinstance(user, User):
            if text_size.cookie_says_large(self.request) and not user.large_text:
                services.set_large_text(actor=user, on=True)
            text_size.remember(response, on=user.large_text)
        return response


@require_POST
def switch_text_size(request: HttpRequest) -> HttpResponse:
    """The 长辈版 switch in the header: on the account when signed in, and in the cookie either way."""
    on = request.POST.get("large_text") == "1"
    user = request.user
    if isinstance(user, User):
        services.set_large_text(actor=user, on=on)
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = reverse("home") if user.is_authenticated else reverse("login")
    response = HttpResponseRedirect(target)
    text_size.remember(response, on=on)
    return response


class ThrottledPasswordResetView(auth_views.PasswordResetView):
    """Django's reset request; past ``PASSWORD_RESET_MAX_PER_HOUR`` asks from one address or for one email,
    no mail goes out (the page says the same either way: it never tells whether an address has an account)."""

    template_name = "registration/reset_form.html"
    email_template_name = "registration/reset_email.txt"
    subject_template_name = "registration/reset_subject.txt"
    success_url = reverse_lazy("password_reset_done")

    def form_valid(self, form: PasswordResetForm) -> HttpResponse:
        email = form.cleaned_data["email"]
        if reset_throttle.allow(self.request, email):
            return super().form_valid(form)
        return HttpResponseRedirect(self.get_success_url())

    def form_invalid(self, form: PasswordResetForm) -> HttpResponse:
        return bad_request(super().form_invalid(form))


class NewPasswordView(auth_views.PasswordResetConfirmView):
    """Django's new-password page behind the emailed link; a refused password is a 400 naming the field."""

    template_name = "registration/reset_confirm.html"

    def form_invalid(self, form: SetPasswordForm[User]) -> HttpResponse:
        return bad_request(super().form_invalid(form))


def bad_request(response: HttpResponse) -> HttpResponse:
    response.status_code = 400
    return response
