"""Physical constants used by the kernels (km, s, rad). Not historical data: standards."""

# WGS-84 ellipsoid (NIMA TR8350.2, 3rd ed., 2000).
WGS84_A_KM = 6378.137
WGS84_F = 1.0 / 298.257223563
WGS84_E2 = WGS84_F * (2.0 - WGS84_F)
WGS84_B_KM = WGS84_A_KM * (1.0 - WGS84_F)

# Earth gravity field: EGM96 / WGS-84 (G) values (NIMA TR8350.2; Vallado, "Fundamentals of
# Astrodynamics", 4th ed., table D-1). Unnormalised zonal coefficients.
GM_EARTH_KM3_S2 = 398600.4418
R_EARTH_EQ_KM = 6378.137
J2 = 1.08262668355e-3
J3 = -2.53265648533e-6
J4 = -1.61962159137e-6

# Mean angular velocity of the Earth (IERS conventions).
OMEGA_EARTH_RAD_S = 7.292115e-5

# Sun and Moon.
AU_KM = 149597870.7
R_SUN_KM = 696000.0
R_MOON_KM = 1737.4
GM_SUN_KM3_S2 = 1.32712440018e11
GM_MOON_KM3_S2 = 4902.800066

SECONDS_PER_DAY = 86400.0
J2000_JD = 2451545.0
DAYS_PER_JULIAN_CENTURY = 36525.0
TT_MINUS_TAI_S = 32.184
