"""Co-handling (协办): the parts co-handling units send to a case's lead department."""
