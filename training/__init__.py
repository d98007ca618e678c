"""paralift.training"""
