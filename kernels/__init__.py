"""Array kernels of Handshake in Orbit.

Pure functions over batched arrays (xyz last), written against the array API standard so the
same source runs on NumPy, CuPy or ``array_api_strict``. This package never imports
``experience`` or Panda3D and never reads files: data comes in as arrays.
"""
