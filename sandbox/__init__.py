"""paralift.sandbox"""
