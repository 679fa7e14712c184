"""Marking texts for translation in pure modules (domain code imports no Django).

``gettext_noop`` returns its argument unchanged; `makemessages` still collects every string
passed to it into the app's catalogue, and the page or API that shows the text translates it
with Django's ``gettext`` at that moment, in the reader's language."""


def gettext_noop(text: str) -> str:
    return text


class TranslatableError(ValueError):
    """An error of a pure module: its text is marked with ``gettext_noop`` and its values are
    kept apart, so the caller can show it in the reader's language (``wanxin.i18n.translated``).
    ``str()`` gives the English text."""

    def __init__(self, text: str, **params: object):
        self.text, self.params = text, params
        super().__init__(text % params if params else text)

