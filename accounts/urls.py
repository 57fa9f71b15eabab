from django.urls import path

from accounts import views

app_name = "accounts"
urlpatterns = [
    path("", views.home, name="home"),
    path("welcome", views.welcome, name="welcome"),
    path("logout", views.logout_view, name="logout"),
    path("profile", views.profile, name="profile"),
]
