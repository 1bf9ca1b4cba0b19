"""Render: one target's build context (its generated Dockerfile and files), from its recipe and the family file.
`context` writes it, `templates` holds the Jinja environment and its `sh`/`json` filters, `output` writes `invoke
render`'s folder."""

from pyfamily.render.context import CA_SECRET_ID, Context, render, template_variables
from pyfamily.render.templates import exec_form, shell_words

__all__ = ["CA_SECRET_ID", "Context", "exec_form", "render", "shell_words", "template_variables"]
