"""Handshake in Orbit: the Apollo-Soyuz Test Project of July 1975, simulated.

Sub-packages follow the one-way data flow:
``mission`` (facts + clock) -> ``simulation`` (calls the array kernels) -> ``scene`` (Panda3D)
-> ``frontends`` (command line, offline render, desktop, VR, kiosk).
"""

__version__ = "0.1.0"
