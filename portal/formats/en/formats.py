# The forms the English pages have always printed (see portal/formats/__init__.py).
DATE_FORMAT = "j M Y"
DATETIME_FORMAT = "j M Y H:i"
MONTH_DAY_FORMAT = "j M"
YEAR_MONTH_FORMAT = "M Y"
SHORT_DATE_FORMAT = "D j M"
SHORT_DATETIME_FORMAT = "D j M H:i"
TIME_FORMAT = "H:i"
