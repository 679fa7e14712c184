"""Models of the kyc app."""
