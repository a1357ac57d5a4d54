"""The hotline domain on top of ``engine``: cases, departments, dispatch, deadline policy,
working-day calendar, forms, knowledge base and KPIs. Never imports ``webapp`` or Flask."""
