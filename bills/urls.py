app_name = "bills"
urlpatterns = []
