"""The web application of ``crossings serve``: live maps, the record form, review, the log.

``geo.web.app`` builds it (Starlette, served by uvicorn); ``session`` keeps who
is signed in, in a signed cookie, and the forms' tokens; ``pages`` draws the
maps of ``crossings map`` from the store as it is; ``views`` are the pages of
the team: signing in, the record form, the review queue and the activity log.
Nothing here is imported by a command that does not serve.
"""
