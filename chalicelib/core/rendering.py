"""jinja2 templates from the top-level `templates/` folder (shipped through `vendor/`)."""
import functools
from pathlib import Path

TEMPLATES_DIR = Path(__file__).resolve().parents[2] / "templates"


@functools.cache
def environment():
    import jinja2

    from chalicelib.core.settings import get_settings
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=jinja2.select_autoescape(['html', 'xml']),
        trim_blocks=True, lstrip_blocks=True, undefined=jinja2.StrictUndefined,
        # A deployed Lambda's templates never change: no stat() of the file on every render
        # (the reminder job renders thousands). `make run` still picks up edits.
        auto_reload=get_settings().is_local,
    )
    from chalicelib.core import fields, formatting
    env.filters.update(formatting.FILTERS)
    env.globals['rules'] = fields      # forms state their limits from the field rules
    return env


def render(template_name, /, **context):
    return environment().get_template(template_name).render(**context)
