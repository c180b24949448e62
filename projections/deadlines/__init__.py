"""Deadlines (the Durable Object alarm replacement): a loop that fires the jobs' deadlines
through commands. It follows no log, so it is not a reactor: it polls the jobs read model.
"""
