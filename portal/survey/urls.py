"""Under teams/<slug>/, namespace `survey:`."""

from django.urls import path

from portal.survey import views

app_name = "survey"
urlpatterns = [
    path("survey/", views.survey_home, name="home"),
    path("survey/settings/", views.settings_edit, name="settings"),
    path("survey/statements/", views.statement_add, name="statement_add"),
    path("survey/statements/<int:pk>/", views.statement_edit, name="statement_edit"),
    path("survey/statements/<int:pk>/retire/", views.statement_retire, name="statement_retire"),
    path("survey/rounds/", views.round_open, name="round_open"),
    path("survey/rounds/compare/", views.rounds_compare, name="compare"),
    path("survey/rounds/<int:number>/", views.round_detail, name="round"),
    path("survey/rounds/<int:number>/answers/", views.round_answer, name="answer"),
    path("survey/rounds/<int:number>/close/", views.round_close, name="close"),
    path("survey/rounds/<int:number>/results.csv", views.round_csv, name="csv"),
]
