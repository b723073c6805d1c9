"""Daily Papers: Hugging Face's trending AI papers as a static, searchable site with feeds."""

__version__ = "0.1.0"
