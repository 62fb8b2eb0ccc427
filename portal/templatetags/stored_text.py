"""``{{ text|readable }}``: a text the product stored in English, in the reader's language (portal.stored_text)."""

from django import template

from portal.stored_text import readable as readable_text

register = template.Library()


@register.filter
def readable(text) -> str:
    return readable_text(text)
