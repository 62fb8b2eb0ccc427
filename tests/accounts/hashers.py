"""A real (fast) password hasher that counts its runs, to show the hasher runs for unknown accounts too."""

from django.contrib.auth.hashers import MD5PasswordHasher


class CountingHasher(MD5PasswordHasher):
    algorithm = "counting_md5"
    runs = 0
    _verifying = False

    def encode(self, password, salt):
        if not CountingHasher._verifying:  # MD5's verify() encodes once itself: one run, not two
            CountingHasher.runs += 1
        return super().encode(password, salt)

    def verify(self, password, encoded):
        CountingHasher.runs += 1
        CountingHasher._verifying = True
        try:
            return super().verify(password, encoded)
        finally:
            CountingHasher._verifying = False
