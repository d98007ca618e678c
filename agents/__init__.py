"""paralift.agents"""
