"""Signing in and out, and setting a password (an invitation is a password-reset link).

Django's auth views, with the sign-in rate-limited per email and per client address through
maas's request counter (shared by every web process: the database or Redis)."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpRequest, HttpResponse
from django.urls import reverse_lazy

from maas.ratelimit import rate_limit_hit


class SignInForm(AuthenticationForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["username"].label = "Email"
        self.fields["username"].widget.attrs.update({"type": "email", "autocomplete": "email"})


class SignInView(auth_views.LoginView):
    template_name = "console/login.html"
    authentication_form = SignInForm
    redirect_authenticated_user = True

    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        email = request.POST.get("username", "").strip().lower()[:254]
        address = request.META.get("REMOTE_ADDR", "")
        for bucket in (f"signin:{email}", f"signin-ip:{address}"):
            state = rate_limit_hit(bucket, settings.MAAS_CONSOLE_SIGN_IN_PER_MINUTE)
            if not state.allowed:
                form = self.get_form()
                form.errors.clear()
                response = self.render_to_response(
                    self.get_context_data(
                        form=form,
                        refused=f"Too many sign-in attempts. Try again in {state.reset_seconds} s.",
                    ),
                    status=429,
                )
                response["Retry-After"] = str(state.reset_seconds)
                return response
        return super().post(request, *args, **kwargs)


class SignOutView(auth_views.LogoutView):
    next_page = reverse_lazy("console:login")


class PasswordResetView(auth_views.PasswordResetView):
    template_name = "console/password_reset.html"
    email_template_name = "console/password_reset_email.txt"
    subject_template_name = "console/password_reset_subject.txt"
    success_url = reverse_lazy("console:password_reset_done")


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "console/password_reset_done.html"


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "console/password_reset_confirm.html"
    success_url = reverse_lazy("console:login")

    def form_valid(self, form):
        messages.success(self.request, "Password set. Sign in with it.")
        return super().form_valid(form)
