"""Flask extensions, created unbound and initialised by the app factory."""

from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect

import workflows.models  # noqa: F401  (registers the domain tables on Base.metadata)
from engine.models import Base

#: The engine's and the domain's tables all live on engine.models.Base's metadata.
db = SQLAlchemy(metadata=Base.metadata)
migrate = Migrate()
csrf = CSRFProtect()
