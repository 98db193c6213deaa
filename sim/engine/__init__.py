"""The model: keyed random streams, the world's arrays, red lines, the actor agents, the Mesa model and outcome
tracking. The only stage that imports mesa.
"""
