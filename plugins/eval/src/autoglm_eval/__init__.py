"""Evaluation for autoglm: metrics, significance tests, feedback store, champion/challenger"""
