"""paralift.data"""
