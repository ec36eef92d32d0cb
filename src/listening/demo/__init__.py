"""The demo world behind ``listening demo``: fictional French brands, sites, feeds and comments.

``build_world(base_url)`` generates every file deterministically; ``serve()`` serves them on
loopback. ``serve_world()`` does both, in the order the absolute URLs require (bind, then build).
"""

from listening.demo.server import DemoServer, serve, serve_world
from listening.demo.world import DEFAULT_END, DEFAULT_SEED, World, build_world

__all__ = [
    "DEFAULT_END",
    "DEFAULT_SEED",
    "DemoServer",
    "World",
    "build_world",
    "serve",
    "serve_world",
]
