"""paralift.eval"""
