"""Scorers: does an edit keep the person (identity), move the attribute (direction) and still look like a photograph (realism)?"""
