"""Placeholder until its module is written."""

routes: list = []
