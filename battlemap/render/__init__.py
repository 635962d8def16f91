"""Renderers: HTML maps (web), PDF posters (poster) and the fonts they share."""
