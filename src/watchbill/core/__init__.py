"""The pure core: plain functions over plain data, the clock passed in.

Nothing here touches a database, the network, the environment or the wall clock,
so every rule about time can be tested directly with a fake clock.
"""
