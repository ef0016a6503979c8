#version 330
// The Moon: Lambert shading toward the Sun, grey albedo ~0.12 (dark maria ~0.07 at their
// approximate selenographic places, brighter highlands ~0.14, a little value noise), plus a
// faint earthshine floor, in linear units where a white card facing the Sun is 1.0.

uniform vec4 sky_output;      // x: exposure, y: display gamma (0: linear HDR output), z: radiance scale (linear output only)

// linear (white card facing the Sun = 1) -> what goes into the frame buffer
// (display: over-exposed colours bleach toward white, as on film, instead of losing luminance)
vec3 sky_encode(vec3 lin) {
    if (sky_output.y > 0.0) {
        vec3 x = max(lin * sky_output.x, vec3(0.0));
        x += max(max(x.r, max(x.g, x.b)) - 1.0, 0.0);
        return pow(min(x, vec3(1.0)), vec3(1.0 / sky_output.y));
    }
    return lin * (sky_output.x * sky_output.z);
}
uniform vec3 moon_sun_dir;   // unit vector from the Moon to the Sun, in the Moon's model frame
uniform vec4 moon_params;    // x: highland albedo, y: mare albedo, z: earthshine (fraction of sunlight)
in vec3 v_normal;
out vec4 frag_color;

// (latitude deg, longitude deg east, angular radius deg, weight) of the large near-side maria
// (radii from their diameters on the 1,737 km sphere; Oceanus Procellarum and Mare Frigoris as
// chains of discs) and, with negative weight, four bright ray craters
const int N_MARIA = 26;
const vec4 MARIA[N_MARIA] = vec4[](
    vec4( 30.0, -56.0, 13.0, 1.0),   // Oceanus Procellarum
    vec4( 15.0, -61.0, 13.0, 1.0),
    vec4(  0.0, -57.0, 12.0, 1.0),
    vec4(-12.0, -47.0,  9.0, 0.9),
    vec4( 22.0, -42.0, 10.0, 1.0),
    vec4( 42.0, -45.0,  8.0, 0.9),
    vec4( 33.0, -16.0, 17.0, 1.0),   // Mare Imbrium
    vec4( 28.0,  17.5, 10.5, 1.0),   // Mare Serenitatis
    vec4(  8.5,  31.0, 12.0, 1.0),   // Mare Tranquillitatis
    vec4( 17.0,  59.0,  8.5, 1.0),   // Mare Crisium
    vec4( -8.0,  51.0, 11.0, 0.9),   // Mare Fecunditatis
    vec4(-15.0,  35.0,  5.5, 0.9),   // Mare Nectaris
    vec4(-21.0, -17.0, 10.5, 0.9),   // Mare Nubium
    vec4(-24.0, -39.0,  6.5, 0.9),   // Mare Humorum
    vec4( 56.0, -30.0,  6.0, 0.8),   // Mare Frigoris
    vec4( 57.0,   0.0,  6.0, 0.8),
    vec4( 56.0,  25.0,  5.0, 0.8),
    vec4( 13.0,   4.0,  4.5, 0.8),   // Mare Vaporum
    vec4(-10.0, -23.0,  6.0, 0.8),   // Mare Cognitum
    vec4(  7.0, -31.0,  8.0, 0.8),   // Mare Insularum
    vec4(  2.0,   1.0,  3.0, 0.7),   // Sinus Medii
    vec4(-43.0, -11.0,  1.5, -1.5),  // Tycho (bright)
    vec4(  9.6, -20.0,  1.3, -1.0),  // Copernicus
    vec4(  8.1, -38.0,  1.0, -0.8),  // Kepler
    vec4( 23.7, -47.5,  1.0, -1.2),  // Aristarchus
    vec4(-26.0,  -2.0,  0.1, 0.0)    // (padding)
);

float hash(vec3 p) {
    p = fract(p * 0.3183099 + 0.1);
    p *= 17.0;
    return fract(p.x * p.y * p.z * (p.x + p.y + p.z));
}

float value_noise(vec3 x) {
    vec3 i = floor(x);
    vec3 f = fract(x);
    f = f * f * (3.0 - 2.0 * f);
    return mix(mix(mix(hash(i + vec3(0, 0, 0)), hash(i + vec3(1, 0, 0)), f.x),
                   mix(hash(i + vec3(0, 1, 0)), hash(i + vec3(1, 1, 0)), f.x), f.y),
               mix(mix(hash(i + vec3(0, 0, 1)), hash(i + vec3(1, 0, 1)), f.x),
                   mix(hash(i + vec3(0, 1, 1)), hash(i + vec3(1, 1, 1)), f.x), f.y), f.z);
}

float albedo(vec3 n) {
    float n1 = value_noise(n * 7.0);
    float n2 = value_noise(n * 19.0);
    float n3 = value_noise(n * 53.0);
    float shore = (n1 - 0.5) * 0.9 + (n2 - 0.5) * 0.45;  // ragged mare shores, in radii
    float mare = 0.0;
    float bright = 0.0;
    for (int i = 0; i < N_MARIA; ++i) {
        float lat = radians(MARIA[i].x);
        float lon = radians(MARIA[i].y);
        vec3 c = vec3(-cos(lat) * sin(lon), cos(lat) * cos(lon), sin(lat));
        float ang = degrees(acos(clamp(dot(n, c), -1.0, 1.0))) / MARIA[i].z;  // in radii
        if (MARIA[i].w >= 0.0) {
            mare = max(mare, MARIA[i].w * (1.0 - smoothstep(0.55, 1.25, ang + shore)));
        } else {
            bright = max(bright, -MARIA[i].w * (1.0 - smoothstep(0.3, 1.0, ang)));
        }
    }
    float a = mix(moon_params.x, moon_params.y, mare);
    a *= 0.82 + 0.22 * n2 + 0.14 * n3;  // mottling
    a *= 1.0 + 0.4 * bright;
    return a;
}

void main() {
    vec3 n = normalize(v_normal);
    float mu = max(dot(n, normalize(moon_sun_dir)), 0.0);
    float lin = albedo(n) * (mu + moon_params.z);
    frag_color = vec4(sky_encode(vec3(lin)), 1.0);
}
