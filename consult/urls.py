"""Root URLs: pages, auth, i18n, admin, health, the JSON API and its schema."""

from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path
from rest_framework.routers import DefaultRouter

from consult.api.docs import SchemaView, SwaggerView
from consult.health import healthz
from consult.people import api

router = DefaultRouter()
router.register("bureaus", api.BureauViewSet, basename="bureau")
router.register("experts", api.ExpertViewSet, basename="expert")
router.register("deputies", api.DeputyViewSet, basename="deputy")

api_urls: list[URLPattern | URLResolver] = [
    path("me/", api.MeView.as_view(), name="api-me"),
    path("me/contact/", api.MyContactView.as_view(), name="api-my-contact"),
    path("schema/", SchemaView.as_view(), name="api-schema"),
    path("docs/", SwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("", include(router.urls)),
    path("", include("proposals.urls")),
    path("", include("consult.desk.api")),
    path("", include("chat.urls")),
    path("notifications/", include("consult.notifications.api")),
    path("tokens/", include("consult.people.token_api")),
]

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/", include(api_urls)),
    path("", include("frontend.urls")),
]
if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)

# Errors outside DRF's own handling: the API's JSON error under /api/, pages in the site's look elsewhere.
handler400 = "frontend.errors.bad_request"
handler403 = "frontend.errors.permission_denied"
handler404 = "frontend.errors.page_not_found"
handler500 = "frontend.errors.server_error"
