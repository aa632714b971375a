"""commsite.feeds"""
