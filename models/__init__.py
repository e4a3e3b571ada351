"""Image and neural code behind the tools. Imports nothing of the agent, the tools or the memory.

- ``base``: the seams the tools call (Generator, IdentityScorer, DirectionScorer, EditSpec, EngineParts).
- ``engines``: what renders an edit (offline landmarks, diffusion h-space, LEDITS++, Ray Serve remotes) and
  ``engines.catalog``, which picks one by name.
- ``scorers``: identity, direction and realism checks of a rendered edit.
- ``faces``: detection, landmarks, alignment and region masks (dlib).
- ``weights``: where real weights come from, their conversion and provenance, and tiny random stand-ins.
- ``training``: training an attribute's h-space mapping network.
- ``images``: reading and writing photos with clear errors.
"""
