"""The knowledge layer: documents in, cited passages out. Knows nothing about Slack."""

from .adverts import advert_score, contains_advert, is_advert

__all__ = ["advert_score", "contains_advert", "is_advert"]
