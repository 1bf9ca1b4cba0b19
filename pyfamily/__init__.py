"""pyfamily: build, test, tag and push a family of Python container images from one images.yaml."""
