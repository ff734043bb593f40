# Year, month, day in that order, the weekday in brackets after the day (see
# portal/formats/__init__.py).
DATE_FORMAT = "Y年n月j日"
DATETIME_FORMAT = "Y年n月j日 H:i"
MONTH_DAY_FORMAT = "n月j日"
YEAR_MONTH_FORMAT = "Y年n月"
SHORT_DATE_FORMAT = "n月j日(D)"
SHORT_DATETIME_FORMAT = "n月j日(D) H:i"
TIME_FORMAT = "H:i"
