"""commsite.render"""
