"""paralift.paralift"""
