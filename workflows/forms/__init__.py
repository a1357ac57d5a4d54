"""Task forms (form-js JSON) checked when loaded and validated on the server; see
:mod:`workflows.forms.service` for the conventions."""

from .feel import FeelError
from .registry import FormRegistry
from .service import Form, FormError, FormNotFound, is_form_key

__all__ = ["FeelError", "Form", "FormError", "FormNotFound", "FormRegistry", "is_form_key"]
