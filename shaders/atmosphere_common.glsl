// Single-scattering atmosphere shared by earth.frag (aerial perspective over the ground) and
// atmosphere.frag (the sky and the limb). Included with `#pragma include`.
//
// Space: "atmosphere space" = Earth-fixed (ECEF) kilometres with z scaled by a/b, which turns the
// WGS-84 ellipsoid into a sphere of the equatorial radius a; the atmosphere is then a spherical
// shell of that sphere (i.e. it follows the ellipsoid, as the real one follows the geoid).
// The scaling changes path lengths by at most 0.34 %, which is far inside the model's accuracy.
//
// Physics (per km, sea level): Rayleigh scattering (scale height 8 km), Mie scattering and
// extinction (1.2 km, Cornette-Shanks phase, g = 0.8); no ozone (it tinted long limb paths pink).
// Coefficients: Bruneton 2017 "precomputed atmospheric scattering" reference values.
// Sunlight reaching a point comes from a precomputed transmittance table (numpy, at start-up,
// experience/scene/atmosphere.py): it includes the Earth's shadow, so the samples inside the
// shadow get no light and the terminator reddens by itself. Single scattering only.

const float R_PLANET = 6378.137;          // km, WGS-84 a (radius of the sphere in atmosphere space)
const float H_TOP = 100.0;                // km, top of the atmosphere
const float R_TOP = R_PLANET + H_TOP;
const float H_RAYLEIGH = 8.0;             // km
const float H_MIE = 1.2;                  // km
const vec3 BETA_RAYLEIGH = vec3(5.802e-3, 13.558e-3, 33.100e-3);  // scattering = extinction
const float BETA_MIE_SCA = 3.996e-3;
const float BETA_MIE_EXT = 4.440e-3;
const float MIE_G = 0.8;
const float PI = 3.14159265358979;

uniform sampler2D u_transmittance;        // (mu_s, sqrt(h / H_TOP)) -> transmittance to the Sun
uniform vec2 u_lut_size;                  // texels of the table
uniform vec3 u_cam_atm;                   // camera position, atmosphere space (km)
uniform vec3 u_sun_atm;                   // unit vector to the Sun, atmosphere space
uniform vec3 u_sun_irradiance;            // solar irradiance at the top of the atmosphere (scene units)
uniform vec3 u_skylight;                  // diffuse skylight on the ground per unit solar irradiance

// Intersections with a sphere about the centre. Returns (t_near, t_far); t_near > t_far: miss.
// Written with the perpendicular distance so that float32 keeps its precision for grazing rays
// from 6,600 km out.
vec2 ray_sphere(vec3 ro, vec3 rd, float radius) {
    float b = dot(ro, rd);
    vec3 perp = ro - b * rd;
    float p = length(perp);
    if (p >= radius) return vec2(1.0, -1.0);
    float half_chord = sqrt((radius - p) * (radius + p));
    return vec2(-b - half_chord, -b + half_chord);
}

vec3 sun_transmittance(float r, float mu_s) {
    float h = clamp(r - R_PLANET, 0.0, H_TOP);
    vec2 uv = vec2(mu_s * 0.5 + 0.5, sqrt(h / H_TOP));
    uv = (uv * (u_lut_size - 1.0) + 0.5) / u_lut_size;
    return texture(u_transmittance, uv).rgb;
}

float phase_rayleigh(float mu) {
    return 3.0 / (16.0 * PI) * (1.0 + mu * mu);
}

float phase_mie(float mu) {
    float g2 = MIE_G * MIE_G;
    float k = 3.0 / (8.0 * PI) * (1.0 - g2) / (2.0 + g2);
    return k * (1.0 + mu * mu) / pow(max(1.0 + g2 - 2.0 * MIE_G * mu, 1e-4), 1.5);
}

vec3 extinction_at(float h, out float d_r, out float d_m) {
    d_r = exp(-h / H_RAYLEIGH);
    d_m = exp(-h / H_MIE);
    return BETA_RAYLEIGH * d_r + BETA_MIE_EXT * d_m;
}

// March [ta, tb] along the ray, samples packed quadratically toward tb (focus_end) or ta, where
// the air is densest; accumulate the optical depth from the camera (od) and the Rayleigh / Mie
// in-scattering sums (still to be multiplied by coefficients and phases).
void march(vec3 ro, vec3 rd, float ta, float tb, int n, bool focus_end,
           inout vec3 od, inout vec3 sum_r, inout vec3 sum_m) {
    float len = tb - ta;
    if (len <= 0.0 || n <= 0) return;
    float inv_n = 1.0 / float(n);
    for (int k = 0; k < n; ++k) {
        float u = focus_end ? (float(n - k) - 0.5) * inv_n : (float(k) + 0.5) * inv_n;
        float t = focus_end ? tb - len * u * u : ta + len * u * u;
        float dt = len * 2.0 * u * inv_n;
        vec3 p = ro + rd * t;
        float r = length(p);
        float d_r, d_m;
        vec3 ext = extinction_at(r - R_PLANET, d_r, d_m);
        od += ext * (0.5 * dt);
        vec3 light = exp(-od) * sun_transmittance(r, dot(p, u_sun_atm) / r);
        sum_r += light * (d_r * dt);
        sum_m += light * (d_m * dt);
        od += ext * (0.5 * dt);
    }
}

vec3 inscatter_from(vec3 rd, vec3 sum_r, vec3 sum_m) {
    float mu = dot(rd, u_sun_atm);
    return u_sun_irradiance * (sum_r * BETA_RAYLEIGH * phase_rayleigh(mu) + sum_m * (BETA_MIE_SCA * phase_mie(mu)));
}

// Light scattered toward the camera between the camera and a point on the ground (t_hit along rd),
// and the transmittance of that path.
void aerial_perspective(vec3 ro, vec3 rd, float t_hit, int n, out vec3 inscatter, out vec3 transmittance) {
    vec2 top = ray_sphere(ro, rd, R_TOP);
    float ta = max(top.x, 0.0);
    vec3 od = vec3(0.0), sum_r = vec3(0.0), sum_m = vec3(0.0);
    march(ro, rd, ta, t_hit, n, true, od, sum_r, sum_m);
    inscatter = inscatter_from(rd, sum_r, sum_m);
    transmittance = exp(-od);
}

// The sky: rays that leave the atmosphere again (or end on the ground, t_ground > 0), with the
// samples packed around the point of closest approach to the Earth, where a limb ray is densest.
void sky_ray(vec3 ro, vec3 rd, int n, out vec3 inscatter, out vec3 transmittance) {
    inscatter = vec3(0.0);
    transmittance = vec3(1.0);
    vec2 top = ray_sphere(ro, rd, R_TOP);
    if (top.x > top.y || top.y <= 0.0) return;
    float ta = max(top.x, 0.0);
    float tb = top.y;
    vec2 ground = ray_sphere(ro, rd, R_PLANET);
    vec3 od = vec3(0.0), sum_r = vec3(0.0), sum_m = vec3(0.0);
    if (ground.x <= ground.y && ground.x > 0.0) {
        march(ro, rd, ta, ground.x, n, true, od, sum_r, sum_m);
    } else {
        float tmid = clamp(-dot(ro, rd), ta, tb);
        int n1 = n / 2;
        march(ro, rd, ta, tmid, n1, true, od, sum_r, sum_m);
        march(ro, rd, tmid, tb, n - n1, false, od, sum_r, sum_m);
    }
    inscatter = inscatter_from(rd, sum_r, sum_m);
    transmittance = exp(-od);
}
