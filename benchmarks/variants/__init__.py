"""Building variants: read the source model, choose data, convert and optimize in an isolated converter child."""
